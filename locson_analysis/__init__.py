"""Monitoring workbook for the children's-plan targets of Trường THCS Lộc Sơn."""

__version__ = "0.1.0"
