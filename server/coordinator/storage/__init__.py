"""Persistence: the engine and unit of work, the models, paging, the migrations."""
