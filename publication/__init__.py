"""Write-audit-publish: audited marts copied out where readers find them, with one record.

`publish.py` copies the candidate marts out of the working warehouse so that readers never
see half a publication; `record.py` is the publication's one record (what was published,
as of when, by which run), written beside it and carried by the Airflow asset event.
"""
