"""Recap and dashboard queries (SQL aggregates on the database); rendering lives in the desks."""
