"""Shared view helpers: request-level concerns every app's views rely on. Imports no app."""
