"""Benchmark: the public catalogue's search on PostgreSQL at 300,000 titles and 1,000,000 volumes
over 30 sites — two-character Chinese words, longer parts of titles, pinyin in full and by
initials, authors, ISBNs and CLC classes — as readers type them. The server time of the search
page (the selector and its template) is printed beside a raw SQL baseline of the same search
(the same match, ranking, page and facets, hand-written) and their ratio. Goal: p95 < 100 ms.

    .venv/bin/python bench/catalogue_search.py
    .venv/bin/python bench/catalogue_search.py --quick     (3,000 titles, 10,000 volumes, for CI)
    .venv/bin/python bench/catalogue_search.py --reuse     (keep the data a previous run loaded)

Every statement runs under a statement_timeout (STATEMENT_TIMEOUT): a bad plan is reported as a
timed-out search, never a run that hangs. p95 is printed per kind of query (what readers type).
The tables are vacuumed after the load, as autovacuum leaves a live catalogue: the search counts
copies from an index alone, which needs the visibility map a fresh COPY does not yet have.

The page is asked of the whole server as a reader's browser asks it (Django's WSGI handler: every
middleware — sessions, CSRF, CSP, the chosen language, the replica router — the URL resolver,
the view and its template), over the persistent connection the deployment keeps; what it leaves
out is the web server and the network. A line below gives the view alone (called directly, as
earlier runs of this script measured it), so the middleware's share can be read off.

On a machine others share, the wall-clock figures swing with their load; the last line also
gives the CPU a search took (this process and its database backend, from /proc), a steadier
figure, beside the raw SQL's.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python bench/NAME.py` puts bench/ first on the path, where a script would shadow an app or a
# library of its name: the project root takes its place, and the set-up is bench.benchdb.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_catalogue_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")
os.environ["SHAREDLOAN_CATALOGUE_SEARCH_RATE"] = "1000000/sec"
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")

QUICK = "--quick" in sys.argv
REUSE = "--reuse" in sys.argv
TITLES = 3_000 if QUICK else 300_000
VOLUMES = 10_000 if QUICK else 1_000_000
SITES = 30
RUNS = 1 if QUICK else 5
SAMPLE = 10 if QUICK else 20  # words and titles the queries are drawn from
STATEMENT_TIMEOUT = "5s"


def _database():
    """A fresh database, or with --reuse the one a previous run loaded (migrated anew)."""
    if REUSE:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from collections_app.models import Item, Title

        if Title.objects.count() == TITLES and Item.objects.count() == VOLUMES:
            return True
        print("--reuse: the database does not hold the data of this run; loading it")
    from bench.benchdb import fresh_database

    fresh_database()
    return False


REUSED = _database()

from importlib import import_module  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import reverse  # noqa: E402

from collections_app.models import Item, Site, Title  # noqa: E402
from collections_app.title_keys import title_search_keys  # noqa: E402
from readers import search as catalogue  # noqa: E402
from readers.views import search_page  # noqa: E402

# Words titles are made of: a reader's two-character searches are among them.
WORDS = " ".join(
    [
        "中国 历史 文学 红楼 三国 西游 水浒 人生 世界 科学 技术 教育 儿童 故事 生活 经济 管理 社会",
        "文化 艺术 音乐 美术 哲学 思想 自然 地理 农业 种植 养殖 健康 医学 中医 养生 心理 数学 物理",
        "化学 生物 计算 编程 网络 数据 时代 青春 爱情 家庭 城市 乡村 山水 江河 春天 秋天 月亮 太阳",
        "星空 海洋 森林 草原 长城 故宫 北京 上海 湖北 随州 神农 炎帝 编钟 曾侯 楚国 汉代 唐诗 宋词",
        "元曲 明清 小说 散文 诗歌 戏剧 传记 日记 书信 读本 教程 概论 原理 方法 实践 研究 探索 发现",
        "漫画 绘本 童话 寓言 神话 传说 英雄 少年 老人 母亲 父亲 朋友 学校 老师 学生 考试 作文 阅读",
        "写作 语文 英语 词典 字典 百科 全书 图说 简史 通史 讲义 选集 文集 全集 新编 入门 指南 手册",
    ]
).split()
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文武德志红梅兰竹松海波宁"
PUBLISHERS = [
    "人民文学出版社", "中华书局", "商务印书馆", "作家出版社", "湖北人民出版社", "长江文艺出版社",
    "科学出版社", "高等教育出版社", "人民教育出版社", "少年儿童出版社", "中国农业出版社",
    "机械工业出版社", "电子工业出版社", "上海古籍出版社", "三联书店", "译林出版社",
]  # fmt: skip
CLASSES = "ABCDEFGHIJKNOPQRSTUVXZ"


def make_titles(rng):
    """TITLES titles of 2–4 words, each with an author, a publisher, an ISBN and a class."""
    for n in range(TITLES):
        words = rng.sample(WORDS, rng.choice([2, 2, 3, 3, 4]))
        title = "".join(words) + (f"（第{n % 7 + 1}版）" if n % 11 == 0 else "")
        author = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]) + "著"
        isbn = _isbn(n)
        top = CLASSES[n % len(CLASSES)]
        clc = f"{top}{rng.randint(1, 9)}{rng.randint(0, 99)}.{rng.randint(1, 9)}"
        yield title, author, rng.choice(PUBLISHERS), isbn, clc, top


def _isbn(n: int) -> str:
    body = f"978750{n:06d}"
    check = (10 - sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(body)) % 10) % 10
    return f"{body}{check}"


def load(rng):
    from bench.benchdb import make_county

    if REUSED:
        from collections_app.models import Library

        library = Library.objects.get(code="CAT")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"reused {TITLES} titles and {VOLUMES} volumes over {SITES} sites")
        return library, Site.objects.filter(library=library).order_by("pk")

    county = make_county(volumes=0, sites=SITES - 1, code="CAT")
    Item.objects.all().delete()
    Title.objects.all().delete()
    library = county.library
    sites = [county.central.pk, *(s.pk for s in county.sites)]
    started = time.perf_counter()
    rows = []
    for title, author, publisher, isbn, clc, top in make_titles(rng):
        keys = title_search_keys(title)
        rows.append(
            (library.pk, isbn, title, author, publisher, 2000 + len(rows) % 25, clc, top, "",
             keys["title_pinyin"], keys["title_initials"])
        )  # fmt: skip
    pinyin_time = time.perf_counter() - started
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY collections_app_title (library_id, isbn, title, responsibility, publisher, year, "
            "clc, clc_top, marc, title_pinyin, title_initials, created_at) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row((*row, "2021-03-01 00:00:00+08"))
        cursor.execute("SELECT min(id) FROM collections_app_title")
        first = cursor.fetchone()[0]
        statuses = ["available"] * 8 + ["on_loan", "in_transit"]
        with cursor.cursor.copy(
            "COPY collections_app_item (library_id, barcode, title_id, consignment_id, owner_id, "
            "call_number, home_site_id, current_site_id, status, status_changed_at) FROM STDIN"
        ) as copy:
            for n in range(VOLUMES):
                site = rng.choice(sites)
                copy.write_row(
                    (library.pk, f"CAT{n:08d}", first + n % TITLES, county.consignment.pk,
                     county.consignment.lender_id, "", site, site, rng.choice(statuses),
                     "2021-03-01 00:00:00+08")
                )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"loaded {TITLES} titles and {VOLUMES} volumes over {SITES} sites "
        f"({pinyin_time:.1f} s for the titles' pinyin, "
        f"{time.perf_counter() - started:.1f} s in all)"
    )
    return library, Site.objects.filter(library=library).order_by("pk")


KINDS = [
    "two characters", "part of a title", "full pinyin", "initials", "author", "ISBN",
    "CLC class",
]  # fmt: skip


def queries(rng):
    """(kind, text) as readers type them: two-character words most, then longer parts of titles,
    pinyin, initials, authors, ISBNs and CLC classes."""
    picks = [("two characters", word) for word in rng.sample(WORDS, SAMPLE)]
    sample = list(
        Title.objects.order_by("?").values_list("title", "title_pinyin", "title_initials",
                                                "responsibility", "isbn", "clc")[:SAMPLE]
    )  # fmt: skip
    for title, pinyin, initials, author, isbn, clc in sample:
        picks += [
            ("part of a title", title[1:5]), ("full pinyin", pinyin[:12]),
            ("initials", initials[:4]), ("author", author[:2]), ("ISBN", isbn),
            ("CLC class", clc[:3]),
        ]  # fmt: skip
    picks += [("full pinyin", text) for text in ("hongl", "zhongguo", "lishi")]
    picks += [("initials", text) for text in ("hlm", "zgls")]
    return picks


def raw_search(library_id: int, home_id: int, text: str):
    """The same text search in hand-written SQL, as readers.search runs it on PostgreSQL: one
    statement that finds the first MATCH_LIMIT + 1 titles with a copy in service, each with its
    copies counted from the (title, site, status) index (held, on a shelf, on a shelf at home,
    the sites that hold it) less those kept for a hold, then the names of the facet's sites."""
    operator, pattern = catalogue.index_pattern(text)
    spelled = catalogue.query_pinyin(text)
    pinyin_match = (
        "OR t.title_pinyin LIKE %(spelled)s OR t.title_initials LIKE %(spelled)s" if spelled else ""
    )
    params = {
        "lib": library_id, "pattern": pattern, "plain": catalogue._like(text),
        "spelled": f"%{spelled}%", "home": home_id, "limit": catalogue.MATCH_LIMIT + 1,
        "out": ["missing", "damaged", "withdrawn", "returned_to_lender", "expected"],
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT t.id, t.title, t.title_pinyin, t.title_initials, t.clc_top,
                    t.responsibility, t.publisher, t.year, t.clc, t.isbn,
                    c.held, c.shelf - k.kept, c.home_shelf - k.home_kept, c.sites
                FROM collections_app_title t
                CROSS JOIN LATERAL (
                    SELECT count(*) AS held,
                        count(*) FILTER (WHERE i.status = 'available') AS shelf,
                        count(*) FILTER (WHERE i.status = 'available'
                                         AND i.current_site_id = %(home)s) AS home_shelf,
                        array_agg(DISTINCT i.current_site_id)
                            FILTER (WHERE i.status <> 'in_transit') AS sites
                    FROM collections_app_item i
                    WHERE i.title_id = t.id AND i.status <> ALL(%(out)s)) c
                CROSS JOIN LATERAL (
                    SELECT count(*) AS kept,
                        count(*) FILTER (WHERE i.current_site_id = %(home)s) AS home_kept
                    FROM circulation_hold h JOIN collections_app_item i ON i.id = h.item_id
                    WHERE h.library_id = %(lib)s AND h.title_id = t.id
                      AND h.status = 'trapped' AND i.status = 'available') k
                WHERE t.library_id = %(lib)s AND t.catalogue_text {operator} %(pattern)s
                  AND (t.title ILIKE %(plain)s {pinyin_match} OR t.responsibility ILIKE %(plain)s
                       OR t.publisher ILIKE %(plain)s)
                  AND c.held > 0
                LIMIT %(limit)s""",
            params,
        )
        rows = cursor.fetchall()[: catalogue.MATCH_LIMIT]
        sites = {site for row in rows for site in row[-1] or ()}
        cursor.execute(
            "SELECT id, code, name FROM collections_app_site WHERE id = ANY(%s) AND is_active",
            [list(sites)],
        )
        cursor.fetchall()


def _cpu_meter():
    """A function giving the CPU seconds used so far by this process and its database backend
    (None for the backend where /proc does not show it: another host)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    tick = os.sysconf("SC_CLK_TCK")

    def used():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return time.process_time(), None
        return time.process_time(), (int(fields[11]) + int(fields[12])) / tick

    return used


def p95(values):
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def _timed(run, *args):
    """Seconds `run` took, or None when PostgreSQL cancelled a statement of it (a bad plan)."""
    from django.db import OperationalError, transaction

    started = time.perf_counter()
    try:
        with transaction.atomic():
            run(*args)
    except OperationalError as error:
        print(f"  timed out ({STATEMENT_TIMEOUT}): {error}".splitlines()[0])
        return None
    return time.perf_counter() - started


def _row(name, pages, raws):
    page = f"p95 {p95(pages) * 1000:7.1f} ms, median {statistics.median(pages) * 1000:6.1f} ms"
    if not raws:
        return f"{name:<16} {page} | no raw baseline (not a text search)"
    ratio = p95(pages) / p95(raws)
    return f"{name:<16} {page} | raw SQL p95 {p95(raws) * 1000:7.1f} ms | ratio {ratio:4.1f}x"


def main():
    rng = random.Random(2021)
    library, sites = load(rng)
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
    home = sites[len(sites) // 2]
    picks = queries(rng)
    factory = RequestFactory(HTTP_HOST=settings.ALLOWED_HOSTS[0])
    url = reverse("readers:search", args=[library.code])
    server = WSGIHandler()
    # A statement cancelled by its timeout is raised, not answered as a 500 page, to be counted.
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    # The connection is kept between requests, as CONN_MAX_AGE keeps it in the deployment; it
    # is not closed and opened around each request as it would be inside a transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    def page(text):
        """The search page through the whole server, as a reader's browser asks it (no cookie)."""
        environ = factory.get(url, {"q": text, "home": home.code}).environ
        answer = []
        response = server(environ, lambda status, headers, *_: answer.append(status))
        b"".join(response)
        response.close()
        assert answer[0].startswith("200"), (text, answer)

    def view(text):
        """The view alone, called directly: no middleware, no URL resolver."""
        request = factory.get(url, {"q": text, "home": home.code})
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        request.user = AnonymousUser()
        response = search_page(request, library.code)
        assert response.status_code == 200, (text, response.status_code)

    # Warm the caches (shared buffers, the pinyin dictionary, templates) once.
    for _kind, text in picks:
        _timed(page, text)
    pages = {kind: [] for kind in KINDS}
    raws = {kind: [] for kind in KINDS}
    views = []
    timeouts = 0
    cpu = _cpu_meter()
    # CPU seconds (this process, the database backend) of the text searches that have a raw
    # baseline, page and raw SQL apart.
    cpu_used = {"page": [0.0, 0.0], "raw": [0.0, 0.0]}

    def metered(name, run, *args):
        before = cpu()
        took = _timed(run, *args)
        after = cpu()
        cpu_used[name][0] += after[0] - before[0]
        if None not in (before[1], after[1]):
            cpu_used[name][1] += after[1] - before[1]
        return took

    for _ in range(RUNS):
        for kind, text in picks:
            match = catalogue.understand(catalogue.CatalogueQuery(text=text))
            raw = match.kind == "text" and " " not in text and not catalogue._short_pinyin(text)
            took = metered("page", page, text) if raw else _timed(page, text)
            if took is None:
                timeouts += 1
                continue
            pages[kind].append(took)
            if (took := _timed(view, text)) is not None:
                views.append(took)
            if raw:
                took = metered("raw", raw_search, library.pk, home.pk, text)
                if took is None:
                    timeouts += 1
                else:
                    raws[kind].append(took)
    every_page = [t for kind in KINDS for t in pages[kind]]
    every_raw = [t for kind in KINDS for t in raws[kind]]
    print(
        f"catalogue search, {TITLES} titles / {VOLUMES} volumes, {len(every_page)} searches "
        f"({timeouts} timed out), server time of the search page (the whole Django stack) beside "
        "hand-written SQL:"
    )
    for kind in KINDS:
        if pages[kind]:
            print("  " + _row(kind, pages[kind], raws[kind]))
    print("  " + _row("all", every_page, every_raw) + " | goal p95 < 100 ms")
    if views:
        print("  " + _row("view alone", views, every_raw) + " | the same searches, no middleware")
    if every_raw:
        n = len(every_raw)
        (page_py, page_db), (raw_py, raw_db) = cpu_used["page"], cpu_used["raw"]

        def ms(seconds):
            return f"{seconds / n * 1000:.1f} ms"

        ratio = (page_py + page_db) / max(raw_py + raw_db, 1e-9)
        print(
            f"  CPU per text search (mean of {n}): page {ms(page_py + page_db)} "
            f"(Python {ms(page_py)}, database {ms(page_db)}) | raw SQL {ms(raw_py + raw_db)} "
            f"(Python {ms(raw_py)}, database {ms(raw_db)}) | ratio {ratio:.1f}x"
        )


if __name__ == "__main__":
    main()
