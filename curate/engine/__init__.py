"""Scale-out engines: the same registered operators and dedup stages on Ray Data.

``cluster`` starts (or joins) Ray; ``ray_recipe`` runs a recipe as ``map_batches`` over Parquet shards;
``ray_dedup`` signs, bands, verifies and clusters on Ray; ``corpus`` streams Parquet in and out with no
workspace store. Ray is an optional extra (``pip install 'curate[ray]'``): nothing here imports it at
module level, so the rest of curate never needs it.
"""

ENGINES = ("local", "ray")
