"""What `common/` keeps about a model object's runs, beside the object and
never on it (common/model.py states the contract), and the walks over the
networks a model declares."""
import dataclasses
import weakref

import keras


def trained_networks(gan):
    """[(network, its optimizer)] of the declared networks compiled with one."""
    return [(network, network.optimizer) for network in gan.networks().values()
            if getattr(network, "optimizer", None) is not None]


def all_networks(gan):
    """Every network a step of `gan` runs: the declared and the fixed ones."""
    return [*gan.networks().values(), *gan.fixed_networks().values()]


def undeclared_trained_networks(gan):
    """The names of the models `gan` holds, compiled with an optimizer, that
    it does not declare: they would train without being checkpointed (and
    on JAX leave the compiled step's values in their variables)."""
    declared = {id(network) for network in all_networks(gan)}
    return [name for name, value in vars(gan).items()
            if isinstance(value, keras.Model) and getattr(value, "optimizer", None) is not None
            and id(value) not in declared]


@dataclasses.dataclass
class RunState:
    """What `common/` keeps about one model object's training."""
    compiled_step: object = None  # train_step compiled for this backend (common/step.py)
    compiled_for: object = None   # the weights, optimizers and settings it was compiled for
    said_eager: bool = False      # PyTorch: the note that the step runs eagerly was printed
    run_config: dict = None       # the configuration this run's checkpoints record
    reached: tuple = None         # (out_dir, step) of the run this object trained last
    timing: dict = None           # fit's seconds per step, save and evaluation (benchmarks/)
    measured: tuple = None        # (step, what measure() computed on held-out data at it)


_run_states = weakref.WeakKeyDictionary()


def run_state(gan):
    """`gan`'s RunState, made at first use; it goes when `gan` goes."""
    state = _run_states.get(gan)
    if state is None:
        state = _run_states[gan] = RunState()
    return state
