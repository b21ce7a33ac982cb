"""OPD suggestion (issue 18): which agency a complaint text most likely belongs to. Pure: no Flask, no
database, no network; the service (`app/services/routing.py`) gathers the data and stores the model.

    model = train(opds, history, desa_rows=read_places())
    model.suggest("jalan berlubang di desa", k=3)  # [Suggestion("DPUTR", "Dinas Pekerjaan Umum …", 0.42), …]
"""

from .engine import (KECAMATAN_TOPIC, Evaluation, Example, Labelled, Model, OpdInfo, Params, Suggestion,
                     TrainingReport, evaluate, parse_labelled, train)
from .places import Gazetteer, read_places

__all__ = ["KECAMATAN_TOPIC", "Evaluation", "Example", "Gazetteer", "Labelled", "Model", "OpdInfo", "Params",
           "Suggestion", "TrainingReport", "evaluate", "parse_labelled", "read_places", "train"]
