"""The generator's ground truth: every published figure computed again, independently of the
pipeline, from the synthetic LA's own record (`registers` for the registers and the version 1
marts, one module per later topic)."""
