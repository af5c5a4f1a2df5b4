"""The counting layer every report reads through: loans, readers and holdings for a scope, a
window and up to two dimensions, read from the summary tables up to the day they reach and
counted live from the loans after it.

- `dimensions.py` — what a report may group and filter by, its question (`Params`), its errors;
- `plan.py` — a window split into summary parts and live parts, and the keys each is read with;
- `loans.py` — `loan_counts`: checkouts;
- `readers.py` — `reader_counts`: distinct readers, visits and loans; `new_readers`;
- `holdings.py` — `Holdings` / `item_counts`: the volumes in service now.
- `searches.py` — `search_counts` / `top_queries`: readers' unmet searches (读者需求).

Each report is one module of `reports/pages/` that calls these and arranges their counts in
tables (`reports/tables.py`).
"""
