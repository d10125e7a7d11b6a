"""Recipes: the whole loop as one YAML file of logictune commands, run in order and resumable.

    logictune recipe configs/recipes/cpu-0.5b.yaml [--dry-run] [--from STEP] [--set name=value ...]

A recipe names its choices as variables and lists its steps; each step is one logictune CLI call::

    description: what this recipe makes
    extends: other.yaml            # optional: take its vars, steps and results; vars here override
    vars:
      work: runs/recipe
      lr: 2.0e-4
      split: "{work}/split"        # variables may use other variables
    state_dir: "{work}/.recipe"    # optional (the default): completion markers and the run log
    steps:
      - name: split
        argv: [data, split, "{train_data}", --out-dir, "{split}"]          # an argv list ...
        outputs: ["{split}/train.jsonl", "{split}/val.jsonl"]
      - name: stage1
        command: train             # ... or a command (shlex-split, may hold positionals) plus args
        args: {config: "{train_config}", lr: "{lr}", set: [report_to=none], resume: null}
        outputs: ["{work}/stage1"]
        when: "{validate}"         # optional: the step is off when this is false/no/0/empty
    results: {adapter: "{work}/stage2"}   # printed at the end

``args`` become ``--key value`` (underscores turn into dashes); ``true`` gives ``--key``, ``false``
``--no-key``, ``null`` nothing, a list repeats the option. ``{{`` and ``}}`` are literal braces.

Each step runs as ``python -m logictune ...`` in the current directory, its output streamed as it comes.
Before it starts, ``STATE_DIR/STEP.started`` records its resolved argv, the fingerprints of what the
earlier steps produced and of what the step reads (``plan.step_inputs``: logictune's version, every file
or folder its arguments name, those a YAML config among them names, a registry model's pinned weights);
after it succeeds, ``STATE_DIR/STEP.done`` adds the fingerprints (sha256) of its ``outputs``, written
atomically. Hashes are cached by (path, size, mtime, inode) in ``STATE_DIR/hashes.json``, so a rerun
does not read checkpoints or model weights again. A rerun skips a step whose marker matches its argv,
its inputs and its outputs as they are now; so changing a variable, a data file, a config or the model
reruns the steps that use it and every step whose inputs then change. A killed step runs again and continues where it
stopped: train gets ``--resume`` when its output directory holds a run, predict and distill resume
their files by themselves. A step rerun because its settings or inputs changed starts over
(``--overwrite`` for train, predict and distill), and keeps starting over after a kill until the step has
replaced its old run (its run record, train's ``config.yaml`` or ``OUT.run.json``, changed since launch).
"""


from .load import Recipe, RecipeError, Step, load
from .plan import Decision, decide, resume_flags, run_record, step_inputs
from .runner import RunResult, run

__all__ = ["Decision", "Recipe", "RecipeError", "RunResult", "Step", "decide", "load", "resume_flags",
           "run", "run_record", "step_inputs"]
