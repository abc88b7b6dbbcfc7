"""Recalls under 《食品召回管理办法》: the case, its blast radius, its legal clocks."""
