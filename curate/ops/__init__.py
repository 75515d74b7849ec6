"""Clean and score: operators (mappers, scorers, filters), recipes in ``pipelines/*.yaml``, the runner
and the filtering report. See ``registry`` for the operator contract and ``recipe`` for the file format.
"""

from curate.ops.outcome import RecipeCounters, StepCounts
from curate.ops.recipe import RECIPES_DIR, Recipe, RecipeError, load, parse
from curate.ops.registry import Operator, UnknownOperator, get, operators
from curate.ops.report import Report, report
from curate.ops.runner import RunResult, execute, run_recipe

__all__ = ["RECIPES_DIR", "Operator", "Recipe", "RecipeError", "RecipeCounters", "Report", "RunResult", "StepCounts",
           "UnknownOperator", "execute", "get", "load", "operators", "parse", "report", "run_recipe"]
