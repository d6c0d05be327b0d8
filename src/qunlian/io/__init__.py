"""Importers (xlsx/csv → validated tables) and exporters."""
