"""The reports, one module each, read top to bottom: the page's parameters in, its tables out,
counted only through the shared layer (`reports.engine`). Python only arranges aggregated
rows: a handful per site, class, month or library.

- `volume.py` — 借阅量: loans over time, and any dimension or two crossed;
- `readers.py` — 读者: distinct readers, visits and new readers;
- `holdings.py` — 馆藏与周转: held, turnover, never lent, idle; displays;
- `preferences.py` — 读者偏好: loans by class against the shelf, and the shortages;
- `transit.py` — 调拨与在途: transfers by reason, overdue transits, routes;
- `compare.py` — 馆际对比: every county or every consignment side by side;
- `demand.py` — 读者需求: the searches that found nothing, the holds that waited longest.
"""
