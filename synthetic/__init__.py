"""A synthetic local authority: schools, pupils and their registers, written as register extracts.

The generator keeps its own record of every mark and characteristic (the ground truth), so
that tests can compute the published figures independently of the pipeline.
"""

from synthetic.extracts import write_extracts_for_day
from synthetic.model import GeneratorConfig, SyntheticLA, build_la

__all__ = ["GeneratorConfig", "SyntheticLA", "build_la", "write_extracts_for_day"]
