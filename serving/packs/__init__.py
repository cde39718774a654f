"""The termly targeting meeting packs: one HTML page per school, printable to A4, for the
meeting the LA offers each school ("Working together to improve school attendance", 2024):
its pupils to discuss, why, and a blank page of agreed actions. Restricted (UPNs)."""
