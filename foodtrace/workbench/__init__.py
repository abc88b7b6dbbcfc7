"""The inspector's workbench: server-rendered zh-CN pages under ``/workbench/``."""
