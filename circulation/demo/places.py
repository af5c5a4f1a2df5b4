"""The libraries and sites of the demo: the NLC, the Hubei provincial library, Sui County (随县)
with its central library, branches and service points, and 曾都区, the other county of Suizhou.

Codes are stable: scripts, the README and the tests address libraries and sites by them.
"""

from dataclasses import dataclass

from collections_app.models import Library, Site

NLC, HUBEI, SUIXIAN, ZENGDU = "NLC", "HBLIB", "SUIXIAN", "ZENGDU"


@dataclass(frozen=True)
class LibrarySpec:
    code: str
    name: str
    kind: str
    province: str = ""
    region: str = ""


LIBRARIES = (
    LibrarySpec(NLC, "国家图书馆", Library.Kind.NATIONAL, region="北京市"),
    LibrarySpec(HUBEI, "湖北省图书馆", Library.Kind.PROVINCIAL, region="湖北省武汉市"),
    LibrarySpec(SUIXIAN, "随县图书馆", Library.Kind.COUNTY, HUBEI, "湖北省随州市随县"),
    LibrarySpec(ZENGDU, "曾都区图书馆", Library.Kind.COUNTY, HUBEI, "湖北省随州市曾都区"),
)


@dataclass(frozen=True)
class SiteSpec:
    """A site and how it behaves in the simulation.

    `profile` names the readers it serves (see `readers.PROFILES`); `stock` is how many volumes
    of a full-size consignment the central library allocates to it; `loans` is its share of the
    county's loans.
    """

    code: str
    name: str
    kind: str
    parent: str
    profile: str
    address: str
    contact: str
    phone: str
    capacity: int
    stock: int
    loans: float


CENTRAL, BRANCH, POINT = Site.Kind.CENTRAL, Site.Kind.BRANCH, Site.Kind.SERVICE_POINT

# Real towns of 随县; the county seat is 厉山镇, birthplace of 炎帝神农 in local tradition,
# hence 神农部落 and 炎帝学校. 小林镇 lies in the north-east, next to 殷店镇.
SITES = {
    SUIXIAN: (
        SiteSpec(
            "central",
            "随县图书馆总馆",
            CENTRAL,
            "",
            "general",
            "湖北省随州市随县厉山镇神农大道 88 号",
            "陈静",
            "0722-4212001",
            16000,
            11600,
            0.32,
        ),
        SiteSpec(
            "lishan",
            "厉山分馆",
            BRANCH,
            "central",
            "general",
            "随县厉山镇烈山大道 21 号",
            "刘洋",
            "0722-4212035",
            4000,
            3000,
            0.11,
        ),
        SiteSpec(
            "yindian",
            "殷店分馆",
            BRANCH,
            "central",
            "general",
            "随县殷店镇殷店街 56 号",
            "张敏",
            "0722-4411028",
            4000,
            3000,
            0.10,
        ),
        SiteSpec(
            "hongshan",
            "洪山分馆",
            BRANCH,
            "central",
            "general",
            "随县洪山镇洪山大道 12 号",
            "王磊",
            "0722-4518019",
            3500,
            2800,
            0.09,
        ),
        SiteSpec(
            "wanhe",
            "万和分馆",
            BRANCH,
            "central",
            "general",
            "随县万和镇万和街 8 号",
            "李娟",
            "0722-4625012",
            3500,
            2600,
            0.08,
        ),
        SiteSpec(
            "xiaolin",
            "小林一中",
            POINT,
            "yindian",
            "school",
            "随县小林镇小林一中图书室",
            "杨帆",
            "0722-4430021",
            1200,
            900,
            0.07,
        ),
        SiteSpec(
            "shennong",
            "神农部落",
            POINT,
            "lishan",
            "village",
            "随县厉山镇神农部落农家书屋",
            "黄德明",
            "0722-4216603",
            800,
            700,
            0.035,
        ),
        SiteSpec(
            "yandi",
            "炎帝学校",
            POINT,
            "central",
            "school",
            "随县厉山镇炎帝学校图书室",
            "周晓燕",
            "0722-4219015",
            1200,
            900,
            0.07,
        ),
        SiteSpec(
            "tongjiju",
            "县统计局",
            POINT,
            "central",
            "office",
            "随县厉山镇神农大道 2 号县统计局职工书屋",
            "吴志强",
            "0722-4213310",
            500,
            450,
            0.02,
        ),
        SiteSpec(
            "hongshan-school",
            "洪山镇中心学校",
            POINT,
            "hongshan",
            "school",
            "随县洪山镇中心学校图书室",
            "徐丽",
            "0722-4518102",
            800,
            700,
            0.035,
        ),
        SiteSpec(
            "huangjiazhai",
            "万和镇黄家寨村书屋",
            POINT,
            "wanhe",
            "village",
            "随县万和镇黄家寨村党群服务中心",
            "孙长林",
            "0722-4625301",
            500,
            450,
            0.015,
        ),
        SiteSpec(
            "yindian-elder",
            "殷店镇敬老院",
            POINT,
            "yindian",
            "senior",
            "随县殷店镇敬老院阅览室",
            "马秀英",
            "0722-4411209",
            400,
            350,
            0.01,
        ),
        SiteSpec(
            "hospital",
            "县人民医院职工书屋",
            POINT,
            "central",
            "office",
            "随县人民医院行政楼三楼",
            "朱建华",
            "0722-4218120",
            400,
            350,
            0.015,
        ),
    ),
    ZENGDU: (
        SiteSpec(
            "central",
            "曾都区图书馆总馆",
            CENTRAL,
            "",
            "general",
            "湖北省随州市曾都区沿河大道 236 号",
            "郭芳",
            "0722-3251100",
            3000,
            1300,
            0.45,
        ),
        SiteSpec(
            "nanjiao",
            "南郊分馆",
            BRANCH,
            "central",
            "general",
            "曾都区南郊街道办事处文化站",
            "何超",
            "0722-3312018",
            800,
            550,
            0.18,
        ),
        SiteSpec(
            "hedian",
            "何店分馆",
            BRANCH,
            "central",
            "general",
            "曾都区何店镇文化站",
            "高亮",
            "0722-3361025",
            800,
            500,
            0.15,
        ),
        SiteSpec(
            "wandian-school",
            "万店镇中心学校",
            POINT,
            "hedian",
            "school",
            "曾都区万店镇中心学校图书室",
            "罗婷",
            "0722-3377012",
            400,
            250,
            0.11,
        ),
        SiteSpec(
            "fuhe",
            "府河镇社区书屋",
            POINT,
            "nanjiao",
            "village",
            "曾都区府河镇府河社区服务中心",
            "郑国庆",
            "0722-3395016",
            300,
            200,
            0.06,
        ),
        SiteSpec(
            "elder-college",
            "曾都区老年大学",
            POINT,
            "central",
            "senior",
            "曾都区青年路 15 号老年大学阅览室",
            "梁桂兰",
            "0722-3256030",
            300,
            200,
            0.05,
        ),
    ),
}


def ensure_libraries() -> tuple[dict[str, Library], int]:
    """The demo libraries by code, creating the missing ones; also how many were created."""
    existing = {
        lib.code: lib for lib in Library.objects.filter(code__in=[s.code for s in LIBRARIES])
    }
    created = 0
    for spec in LIBRARIES:  # in order: a county needs its province first
        if spec.code in existing:
            continue
        existing[spec.code] = Library.objects.create(
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            province=existing.get(spec.province),
            region=spec.region,
        )
        created += 1
    return existing, created


def ensure_sites(library: Library) -> tuple[dict[str, Site], int]:
    """The demo sites of a county library by code, creating the missing ones."""
    existing = {site.code: site for site in Site.objects.filter(library=library)}
    created = 0
    for spec in SITES[library.code]:  # parents come before their children
        if spec.code in existing:
            continue
        existing[spec.code] = Site.objects.create(
            library=library,
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            parent=existing.get(spec.parent),
            address=spec.address,
            contact=spec.contact,
            phone=spec.phone,
            capacity=spec.capacity,
        )
        created += 1
    return existing, created
