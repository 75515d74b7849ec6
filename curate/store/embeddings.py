"""Cache of text embeddings keyed by (model, md5 of text)."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from curate.store.catalog import registered


def fetch(con: duckdb.DuckDBPyConnection, model: str, keys: list[str]) -> dict[str, np.ndarray]:
    if not keys:
        return {}
    with registered(con, wanted=pa.table({"text_key": keys})):
        table = con.sql("""SELECT e.text_key, e.vector FROM embeddings e JOIN wanted w USING (text_key)
                           WHERE e.model = ?""", params=[model]).to_arrow_table()
    if table.num_rows == 0:
        return {}
    vectors = np.asarray(table.column("vector").combine_chunks().flatten(), dtype=np.float32)
    vectors = vectors.reshape(table.num_rows, -1)
    return dict(zip(table.column("text_key").to_pylist(), vectors))


def save(con: duckdb.DuckDBPyConnection, model: str, keys: list[str], vectors: np.ndarray) -> None:
    flat = pa.array(vectors.astype(np.float32).ravel())
    table = pa.table({"text_key": keys, "vector": pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])})
    with registered(con, fresh=table):
        con.execute("""INSERT INTO embeddings (model, text_key, vector)
                       SELECT ?, text_key, vector::FLOAT[] FROM fresh ON CONFLICT DO NOTHING""", [model])
