"""The master data query pages in SQL on (kind, id): walked page by page it gives every
element once in the unpaged order, across kinds, and a page is read with a LIMIT."""

from __future__ import annotations

from keysetharness import check_list, statements
from parties import add_party, gln
from recordharness import Env

from foodtrace.api.paging import encode_token

SITE = {"attributes": {"name": "分页仓", "city": "上海市崇明区", "countryCode": "CN"}}


def test_master_data_pages_in_sql_on_kind_and_id(env: Env) -> None:
    for n in (4, 1, 3, 2):
        farm = add_party(env, "producer", gln(n))
        r = env.client.put(
            f"/api/v1/masterdata/locations/{gln(n)}", json=SITE, headers=farm.headers
        )
        assert r.status_code == 200, r.text
    path = "/api/v1/masterdata"
    everything = check_list(env, path, 4, [1, 2])
    keys = [(e["kind"], e["id"]) for e in everything]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    sites = check_list(env, path, 4, ["x"], params={"type": "location"})
    assert [e["id"][-13:] for e in sites] == [gln(n) for n in (1, 2, 3, 4)]

    # a key no row has continues after it, and the page is one LIMITed read
    token = encode_token(path, ["location", ""])
    with statements(env) as sql:
        r = env.client.get(path, params={"perPage": "1", "nextPageToken": token})
    assert (
        r.status_code == 200 and r.json() == [e for e in everything if e["kind"] >= "location"][:1]
    )
    reads = [s for s in sql if "FROM masterdata_elements" in s and "ORDER BY" in s]
    assert len(reads) == 1 and "LIMIT" in reads[0], sql
