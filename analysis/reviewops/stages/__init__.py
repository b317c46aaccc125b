"""The analysis cut into stages, one process each, for the Airflow DAG `review_analysis`.

`reviewops stage <name> --run-id ID` runs one stage (`stages.cli`); `steps.run_stage` is the
same in Python. Stages exchange data through the run's folder in the artifact store
(`artifacts.RunArtifacts`, records serialized by `records_io`), never through XCom; the DAG
run's conf is checked once by `validate` (`conf.parse_conf`, the shared spec model).
Importing this package is cheap: the engine is imported by the stage that needs it.
"""

from reviewops.stages.artifacts import ArtifactError, RunArtifacts
from reviewops.stages.conf import RunConf, parse_conf
from reviewops.stages.steps import STAGES, StageError, StageOutcome, run_stage

__all__ = [
    "STAGES",
    "ArtifactError",
    "RunArtifacts",
    "RunConf",
    "StageError",
    "StageOutcome",
    "parse_conf",
    "run_stage",
]
