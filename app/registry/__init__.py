"""Base registries: population (人口基础库), legal entities (法人库) and the departments."""
