"""Alerts for inspectors and regulators, and the 穿透式监管 escalation ladder."""
