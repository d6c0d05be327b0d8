"""Analyses that read the store or canonical tables and return results: 亩均, targets, chains …"""
