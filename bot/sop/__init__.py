"""The SOP document: its sections rendered from templates/ for each format, the exception register it shows, and
finding a section by a few words.
"""
