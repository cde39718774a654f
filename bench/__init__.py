"""`make bench`: the pipeline at local-authority and national scale, and its peers."""
