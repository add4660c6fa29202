"""Torch-aware name resolution: a light pass of our own over imports and simple aliases.

libcst's QualifiedNameProvider (and the scope analysis under it) costs about 7x a libcst parse on
real code; resolving the few names the rules ask about from a file's import statements costs
almost nothing. The semantics follow QualifiedNameProvider's: ``import torch.nn as nn; nn.Linear``,
``from torch import nn; nn.Linear``, ``from torch.nn import Linear as L; L`` and
``import torch; torch.nn.Linear`` all resolve to ``torch.nn.Linear``.
"""

from __future__ import annotations

import ast
import sys

# ----------------------------------------------------------------------------- canonical names
SEED_CALLS = frozenset(
    {
        "torch.manual_seed",
        "torch.random.manual_seed",
        "torch.seed",  # seeds from a non-deterministic source: not reproducible, see NONDETERMINISTIC_SEEDS
        "lightning.seed_everything",
        "lightning.pytorch.seed_everything",
        "lightning.fabric.seed_everything",
        "lightning.pytorch.utilities.seed.seed_everything",
        "lightning.fabric.utilities.seed.seed_everything",
        "lightning_fabric.seed_everything",
        "lightning_fabric.utilities.seed.seed_everything",
        "pytorch_lightning.seed_everything",
        "pytorch_lightning.utilities.seed.seed_everything",
        "transformers.set_seed",
        "transformers.trainer_utils.set_seed",
        "transformers.enable_full_determinism",
        "transformers.trainer_utils.enable_full_determinism",
        "accelerate.utils.set_seed",
        "accelerate.utils.random.set_seed",
        # libraries whose seeding helper calls torch.manual_seed (read in their sources)
        "ignite.utils.manual_seed",  # pytorch-ignite: torch, random and numpy
        "timm.utils.random_seed",  # timm: torch.manual_seed(seed + rank), numpy, random
        "timm.utils.random.random_seed",
        "mmengine.runner.set_random_seed",  # OpenMMLab: torch.manual_seed, cuda, numpy, random
        "mmengine.runner.utils.set_random_seed",
        "mmcv.runner.set_random_seed",
        "mmcv.runner.utils.set_random_seed",
        "mmdet.apis.set_random_seed",
        "mmdet.apis.train.set_random_seed",
        "detectron2.utils.env.seed_all_rng",  # detectron2: torch.manual_seed, numpy, random
        "fastai.torch_core.set_seed",  # fastai: torch.manual_seed, cuda, numpy, random
        "deepspeed.runtime.utils.set_random_seed",  # DeepSpeed: torch.manual_seed, numpy, random
        "stable_baselines3.common.utils.set_random_seed",  # Stable-Baselines3: torch.manual_seed, numpy, random
    }
)
NONDETERMINISTIC_SEEDS = frozenset({"torch.seed", "torch.random.seed"})
CUDA_SEEDS = frozenset(
    {
        "torch.cuda.manual_seed",
        "torch.cuda.manual_seed_all",
        "torch.cuda.random.manual_seed",
        "torch.cuda.random.manual_seed_all",
        # model-parallel trackers: torch.cuda.manual_seed and a CUDA RNG tracker, never the CPU generator
        "deepspeed.checkpointing.model_parallel_cuda_manual_seed",
        "deepspeed.runtime.activation_checkpointing.checkpointing.model_parallel_cuda_manual_seed",
        "megatron.core.tensor_parallel.model_parallel_cuda_manual_seed",
        "megatron.core.tensor_parallel.random.model_parallel_cuda_manual_seed",
        "megatron.mpu.model_parallel_cuda_manual_seed",
    }
)
OTHER_SEEDS = frozenset({"random.seed", "numpy.random.seed", "np.random.seed"})


def is_listed_seed(q: str | None, listed: frozenset[str]) -> bool:
    """Is ``q`` one of the configured ``seed-functions``? A dotted entry names one function
    (`utils.seeding.seed_all`); a bare name (`seed_all`) matches a function of that name in any module."""
    if q is None:
        return False
    if q in listed:
        return True
    name = q.rsplit(".", 1)[-1].lstrip("?")
    return name in listed


# methods that seed whatever their receiver (Fabric().seed_everything, accelerator.set_seed)
SEED_METHODS = frozenset({"seed_everything"})

TORCH_LOAD = frozenset({"torch.load", "torch.serialization.load"})
TORCH_SAVE = frozenset({"torch.save", "torch.serialization.save"})
# calls that read a checkpoint from a file or a URL: their arguments name where it is, not a mapping
CHECKPOINT_READERS = TORCH_LOAD | frozenset(
    {"torch.hub.load_state_dict_from_url", "torch.utils.model_zoo.load_url", "safetensors.torch.load_file"}
)
NO_GRAD_CTX = frozenset(
    {
        "torch.no_grad",
        "torch.inference_mode",
        "torch.autograd.no_grad",
        "torch.autograd.grad_mode.no_grad",
        "torch.autograd.grad_mode.inference_mode",
    }
)
SET_GRAD = frozenset(
    {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"}
)
ENABLE_GRAD = frozenset({"torch.enable_grad", "torch.autograd.enable_grad"})
# wrappers whose state_dict keys start with "module." (AveragedModel holds a copy of the module as `.module`, and
# its `n_averaged` count beside it)
WRAPPERS = frozenset(
    {
        "torch.optim.swa_utils.AveragedModel",
        "torch.nn.DataParallel",
        "torch.nn.parallel.DataParallel",
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.parallel.distributed.DistributedDataParallel",
        "torch.nn.parallel.data_parallel.DataParallel",
    }
)
# contexts that build modules on the meta device: no storage, no draw from the generator
EMPTY_INIT_CONTEXTS = frozenset(
    {"accelerate.init_empty_weights", "accelerate.big_modeling.init_empty_weights", "accelerate.init_on_device"}
)
# peft's functions and classes that add new adapter layers to a model (LoRA's `lora_A` drawn at random, as
# peft's default init does): the model they return holds new random parameters beside the base model's
PEFT_ADAPTERS = frozenset(
    {
        "peft.get_peft_model",
        "peft.mapping.get_peft_model",
        "peft.mapping_func.get_peft_model",
        "peft.inject_adapter_in_model",
        "peft.mapping.inject_adapter_in_model",
        "peft.LoraModel",
        "peft.tuners.LoraModel",
        "peft.tuners.lora.LoraModel",
        "peft.tuners.lora.model.LoraModel",
    }
)
TRANSPARENT_WRAPPERS = frozenset({"torch.compile", "torch.jit.script", "torch.jit.trace", "torch.fx.symbolic_trace"})
# objects whose setup/prepare methods hand back the modules (and optimizers ...) given to them, in order,
# each module wrapped in one that runs it and shares its mode (Fabric's _FabricModule, accelerate's DDP or
# the module itself): `model, opt = fabric.setup(model, opt)`, `model = accelerator.prepare(model)`
MODEL_PREPARERS = frozenset(
    {
        "lightning.Fabric",
        "lightning.fabric.Fabric",
        "lightning.fabric.fabric.Fabric",
        "lightning_fabric.Fabric",
        "lightning_fabric.fabric.Fabric",
        "accelerate.Accelerator",
        "accelerate.accelerator.Accelerator",
    }
)
PREPARE_METHODS = frozenset({"setup", "setup_module", "prepare", "prepare_model"})
STRIP_PREFIX_FUNCS = frozenset(
    {
        "torch.nn.modules.utils.consume_prefix_in_state_dict_if_present",
        "torch.nn.modules.utils._remove_prefix",
    }
)
MODULE_BASES = frozenset(
    {
        "torch.nn.Module",
        "torch.nn.modules.module.Module",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "pytorch_lightning.core.module.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "transformers.PreTrainedModel",
        "transformers.modeling_utils.PreTrainedModel",
    }
)
LIGHTNING_BASES = frozenset(b for b in MODULE_BASES if "ightning" in b)

# torch.nn classes without parameters: never a random init.
PARAM_FREE_LAYERS = frozenset(
    """Identity ReLU ReLU6 LeakyReLU ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Hardtanh Hardsigmoid
    Hardswish Hardshrink Softshrink Tanhshrink Softplus Softsign Softmax Softmin LogSoftmax LogSigmoid
    Softmax2d Threshold GLU RReLU Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout
    Flatten Unflatten MaxPool1d MaxPool2d MaxPool3d AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d
    AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d LPPool1d
    LPPool2d LPPool3d FractionalMaxPool2d FractionalMaxPool3d MaxUnpool1d MaxUnpool2d MaxUnpool3d Upsample
    UpsamplingNearest2d UpsamplingBilinear2d PixelShuffle PixelUnshuffle ChannelShuffle ZeroPad1d ZeroPad2d
    ZeroPad3d ConstantPad1d ConstantPad2d ConstantPad3d ReflectionPad1d ReflectionPad2d ReflectionPad3d
    ReplicationPad1d ReplicationPad2d ReplicationPad3d CircularPad1d CircularPad2d CircularPad3d
    CosineSimilarity PairwiseDistance Fold Unfold LocalResponseNorm CrossMapLRN2d Module""".split()
)
CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})
# containers of parameters: random only through the parameters they are given (`nn.Parameter(torch.zeros(n))`
# is not), which a class body lists as constructions of their own
PARAMETER_CONTAINERS = frozenset({"ParameterList", "ParameterDict"})
# parameters initialised to constants (weight 1, bias 0, PReLU 0.25): no draw from the generator
CONSTANT_INIT_LAYERS = frozenset(
    {
        "BatchNorm1d",
        "BatchNorm2d",
        "BatchNorm3d",
        "LazyBatchNorm1d",
        "LazyBatchNorm2d",
        "LazyBatchNorm3d",
        "SyncBatchNorm",
        "LayerNorm",
        "GroupNorm",
        "RMSNorm",
        "InstanceNorm1d",
        "InstanceNorm2d",
        "InstanceNorm3d",
        "LazyInstanceNorm1d",
        "LazyInstanceNorm2d",
        "LazyInstanceNorm3d",
        "PReLU",
    }
)
# normalisations whose parameters exist only with affine=True / elementwise_affine=True
AFFINE_DEFAULT_OFF = frozenset(
    {
        "InstanceNorm1d",
        "InstanceNorm2d",
        "InstanceNorm3d",
        "LazyInstanceNorm1d",
        "LazyInstanceNorm2d",
        "LazyInstanceNorm3d",
    }
)
AFFINE_KW = {
    "BatchNorm1d": "affine",
    "BatchNorm2d": "affine",
    "BatchNorm3d": "affine",
    "SyncBatchNorm": "affine",
    "GroupNorm": "affine",
    "LayerNorm": "elementwise_affine",
    "RMSNorm": "elementwise_affine",
    "InstanceNorm1d": "affine",
    "InstanceNorm2d": "affine",
    "InstanceNorm3d": "affine",
}
# layers whose forward depends on .training
MODE_DEPENDENT_LAYERS = frozenset(
    """Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout BatchNorm1d BatchNorm2d
    BatchNorm3d LazyBatchNorm1d LazyBatchNorm2d LazyBatchNorm3d SyncBatchNorm RReLU Transformer
    TransformerEncoderLayer TransformerDecoderLayer TransformerEncoder TransformerDecoder""".split()
)
DROPOUT_KW_LAYERS = frozenset({"RNN", "LSTM", "GRU", "MultiheadAttention"})  # mode-dependent when dropout > 0
RUNNING_STATS_LAYERS = frozenset({"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"})  # with track_running_stats
# layers whose only parameters are `weight` and (unless bias=False) `bias`
WEIGHT_BIAS_LAYERS = frozenset(
    {
        "Linear",
        "Bilinear",
        "Conv1d",
        "Conv2d",
        "Conv3d",
        "ConvTranspose1d",
        "ConvTranspose2d",
        "ConvTranspose3d",
        "Embedding",
    }
)

# what a question about a layer or a class answers (does it draw parameters, does .eval() change it): "maybe"
# when it depends on arguments or code the analysis cannot read
YES, NO, MAYBE = "yes", "no", "maybe"
# an argument that is no literal (a constructor parameter, a config value): its value is unknown, which
# is not the same as absent (`nn.GRU(..., dropout=dropout_p)` may drop; `nn.GRU(...)` does not)
NONLITERAL = "<?>"
# an argument we know only not to be None (an option with a default: the command line gives a string, never None)
NOT_NONE = "<not None>"
# a layer's facts key: its parameters __init__ replaces with fixed ones ("bias,weight")
FIXED_PARAMS = "=fixed"
# a tensor's metadata: the same whatever numbers it holds
METADATA_ATTRS = frozenset({"shape", "dtype", "device", "ndim", "is_cuda", "layout", "is_sparse", "names"})
METADATA_METHODS = frozenset({"size", "dim", "ndimension", "numel", "nelement", "get_device"})


def metadata_read(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """Is ``node`` read only for metadata along the attribute chain above it (`fused.weight.shape`,
    `self.fc.weight.size()`)? ``parents`` maps a child's id to its parent node."""
    cur: ast.AST = node
    up = parents.get(id(node))
    while isinstance(up, ast.Attribute) and up.value is cur:
        call = parents.get(id(up))
        if up.attr in METADATA_ATTRS:
            return True
        if up.attr in METADATA_METHODS and isinstance(call, ast.Call) and call.func is up:
            return True
        cur, up = up, parents.get(id(up))
    return False


# recurrent layers: their parameters are named per layer and direction (`weight_ih_l0_reverse`), a cell's without
RECURRENT_CELLS = frozenset({"RNNCell", "GRUCell", "LSTMCell"})
RECURRENT_LAYERS = frozenset({"RNN", "GRU", "LSTM"})


def random_params(layer: str, kw: dict) -> frozenset[str] | None:
    """The parameters a torch.nn layer draws at random, with these literal arguments: a layer of
    WEIGHT_BIAS_LAYERS its weight, and its bias unless ``bias=False``; a recurrent cell `weight_ih`,
    `weight_hh` (and `bias_ih`, `bias_hh`); a recurrent layer those of each layer and direction; None for any
    other layer or arguments we cannot read (its parameters not known)."""
    with_bias = kw.get("bias", True)
    if with_bias not in (True, False):
        return None
    if layer in WEIGHT_BIAS_LAYERS:
        return frozenset({"weight"} if layer == "Embedding" or with_bias is False else {"weight", "bias"})
    kinds = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if with_bias else ())
    if layer in RECURRENT_CELLS:
        return frozenset(kinds)
    if layer not in RECURRENT_LAYERS or any(k.startswith("#") and k not in ("#0", "#1", "#2") for k in kw):
        return None  # (flags given by position: which is which differs between RNN and the others)
    layers, both, proj = kw.get("num_layers", kw.get("#2", 1)), kw.get("bidirectional", False), kw.get("proj_size", 0)
    if not isinstance(layers, int) or both not in (True, False) or not isinstance(proj, int):
        return None
    if proj:
        kinds += ("weight_hr",)
    suffixes = ("", "_reverse") if both else ("",)
    return frozenset(f"{kind}_l{i}{suffix}" for i in range(layers) for suffix in suffixes for kind in kinds)


# torch.nn layers (other than the containers) whose constructor is handed a module it holds and runs (a copy
# of the encoder layer given to `nn.TransformerEncoder`): the others take sizes, flags and tensors only (a
# loss's class `weight`), never a module whose mode would be theirs
MODULE_ARG_LAYERS = frozenset({"Transformer", "TransformerEncoder", "TransformerDecoder"})

# criteria that hold a layer of their own (a projection to the classes): random parameters
LOSSES_WITH_PARAMS = frozenset({"AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropyLoss"})


def layer_has_params(layer: str, kw: dict) -> str:
    """Does building this torch.nn layer draw parameters from the random generator?"""
    if layer in PARAM_FREE_LAYERS or layer in CONSTANT_INIT_LAYERS:
        return NO
    if layer in CONTAINERS:
        return MAYBE  # decided by the arguments at the construction site
    if layer in PARAMETER_CONTAINERS:
        # `nn.ParameterDict()`: empty, nothing drawn; given parameters, random as they are (not read here)
        return NO if not any(k.startswith("#") or k in ("values", "parameters") for k in kw) else MAYBE
    fixed = kw.get(FIXED_PARAMS)
    random = random_params(layer, kw)
    if isinstance(fixed, str) and random is not None and random <= set(fixed.split(",")):
        return NO  # every parameter replaced by a fixed one in __init__
    if layer in AFFINE_DEFAULT_OFF:
        return YES if kw.get("affine") is True else NO
    affine_kw = AFFINE_KW.get(layer)
    if affine_kw and kw.get(affine_kw) is False:
        return NO
    if layer.endswith(("Loss", "Loss2d")) and layer not in LOSSES_WITH_PARAMS:
        return NO  # a criterion (`NLLLoss2d`, torch's old name for NLLLoss): nothing to learn
    return YES


def layer_mode_dependent(layer: str, kw: dict) -> str:
    """Does `.eval()` change what this torch.nn layer computes (with these literal arguments)?"""
    if layer in MODE_DEPENDENT_LAYERS:
        if layer.startswith("Dropout") or layer.endswith("Dropout"):
            p = kw.get("p", kw.get("#0", 0.5))
            return NO if p == 0 else YES  # only a provable 0 does not drop
        if "BatchNorm" in layer and kw.get("track_running_stats") is False:
            return NO
        if layer.startswith("Transformer") and kw.get("dropout") == 0:
            return NO
        return YES
    if layer in DROPOUT_KW_LAYERS:
        d = kw.get("dropout", kw.get("#2", 0.0) if layer == "MultiheadAttention" else 0.0)
        return YES if isinstance(d, (int, float)) and d > 0 else (NO if d in (0, 0.0, None) else MAYBE)
    if layer in RUNNING_STATS_LAYERS:
        t = kw.get("track_running_stats")
        return YES if t is True else MAYBE if t == NONLITERAL else NO
    if layer in CONTAINERS:
        return MAYBE
    return NO


# methods returning the module itself (the mode and identity carry over)
SELF_RETURNING = frozenset(
    {
        "to",
        "cuda",
        "cpu",
        "float",
        "double",
        "half",
        "bfloat16",
        "type",
        "eval",
        "train",
        "requires_grad_",
        "share_memory",
        "to_empty",
        "apply",
        "zero_grad",
    }
)
MODULE_USE_METHODS = frozenset(
    {
        "eval",
        "train",
        "to",
        "cuda",
        "cpu",
        "parameters",
        "named_parameters",
        "state_dict",
        "forward",
        "modules",
        "children",
        "named_modules",
        "buffers",
        "half",
        "float",
        "double",
        "requires_grad_",
        "zero_grad",
        "apply",
        "load_state_dict",
        "register_forward_hook",
        "generate",
    }
)
TORCHVISION_MODEL_MODULES = frozenset(
    {
        "torchvision.models",
        "torchvision.models.segmentation",
        "torchvision.models.detection",
        "torchvision.models.video",
        "torchvision.models.quantization",
        "torchvision.models.optical_flow",
    }
)
TIMM_CREATE = frozenset({"timm.create_model", "timm.models.create_model"})


# the classifier sizes timm's pretrained weights come with (ImageNet-1k, with a background class, the
# ImageNet-21k releases) and 0 (no classifier): a `num_classes` among them builds no new head
_TIMM_PRETRAINED_HEADS = frozenset({0, 1000, 1001, 11221, 11821, 21841, 21843})
_TIMM_OWN_WEIGHTS = ("hf-hub:", "hf_hub:", "local-dir:")


def const_value(node: ast.AST | None):
    """A constant's value (None for anything else)."""
    return node.value if isinstance(node, ast.Constant) else None


def timm_new_head(call: ast.Call, qualname: str) -> int | None:
    """`timm.create_model(name, pretrained=..., num_classes=10)`: the literal class count of a classifier the
    pretrained weights cannot fill. timm builds it anew and keeps its random init, whatever `pretrained` is
    (a `checkpoint_path` restores every layer after that: no new head then)."""
    if qualname not in TIMM_CREATE:
        return None
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    if timm_checkpoint(call, qualname):
        return None
    if const_value(kw.get("features_only")) is True or "pretrained_cfg_overlay" in kw or "pretrained_cfg" in kw:
        return None  # no classifier built, or weights of the user's own whose head may match
    name = call.args[0] if call.args else kw.get("model_name")
    if isinstance(name, ast.Constant) and isinstance(name.value, str) and name.value.startswith(_TIMM_OWN_WEIGHTS):
        return None  # a Hub or local model: its pretrained head is of its own size, which we do not know
    n = kw.get("num_classes")
    if isinstance(n, ast.Constant) and type(n.value) is int and n.value > 0 and n.value not in _TIMM_PRETRAINED_HEADS:
        return n.value
    return None


def timm_checkpoint(call: ast.Call, qualname: str) -> bool:
    """`timm.create_model(name, checkpoint_path=path)`: every layer restored from that file once built (an
    empty path, timm's default, restores nothing; a path known at run time only may: precision first)."""
    if qualname not in TIMM_CREATE:
        return False
    for k in call.keywords:
        if k.arg == "checkpoint_path":
            return not (isinstance(k.value, ast.Constant) and not k.value.value)
    return False


def canonical(qualname: str) -> str:
    """Fold the long spellings of torch.nn classes to the public ones."""
    if qualname.startswith("torch.nn.modules.") and qualname.rsplit(".", 1)[-1][:1].isupper():
        return "torch.nn." + qualname.rsplit(".", 1)[-1]
    if qualname.startswith("torch.nn.parallel.") and qualname.endswith("DataParallel"):
        if "Distributed" in qualname:
            return "torch.nn.parallel." + qualname.rsplit(".", 1)[-1]
        return "torch.nn.DataParallel"
    return qualname


def torch_nn_layer(qualname: str) -> str | None:
    """``Linear`` for ``torch.nn.Linear``; None for anything that is not a torch.nn class."""
    q = canonical(qualname)
    if q.startswith("torch.nn.") and q.count(".") == 2:
        name = q.rsplit(".", 1)[-1]
        if name[:1].isupper() and name not in NOT_MODULES:
            return name
    return None


# capitalised names in torch.nn that are tensors, not modules
NOT_MODULES = frozenset({"Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"})


def dotted(expr: ast.AST) -> str | None:
    """``a.b.c`` for a plain dotted name; None for anything else (calls, subscripts, ...)."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


def is_super_call(e: ast.expr) -> bool:
    """`super()` or `super(Cls, self)`."""
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "super"


def table_lookup(node: ast.AST) -> tuple[ast.expr, ast.expr, bool] | None:
    """`table.__dict__[key]` or `getattr(table, key)` (`getattr(table, key, default)`): the table, the key, and
    whether a default is given; None for anything else."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "__dict__":
        return node.value.value, node.slice, False
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
    ):
        return node.args[0], node.args[1], len(node.args) > 2
    return None


def literal_getattr(node: ast.AST) -> tuple[ast.expr, str] | None:
    """`getattr(mod, "name")` (a literal name, no default): the object and the attribute it reads."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) == 2
        and not node.keywords
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
        and node.args[1].value.isidentifier()
    ):
        return node.args[0], node.args[1].value
    return None


def module_name_from_rel(rel_parts: tuple[str, ...]) -> str:
    parts = list(rel_parts)
    if parts and parts[-1].endswith((".py", ".pyi", ".ipynb")):
        parts[-1] = parts[-1].rsplit(".", 1)[0]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


_NODES = "_torchlint_nodes"  # the attribute of a node that holds the nodes under it (see subtree)


def subtree(node: ast.AST) -> list[ast.AST]:
    """Every node under ``node`` (itself included), in ``ast.walk`` order, walked once and kept on the node:
    the facts, the summary and the walker read each module, function and class many times (a function ten
    times: ast.walk was a quarter of a cold check of 300 torch files; a whole module 7 ms a walk for a
    1,500-line script, in every editor lint). Code that changes a node's children calls :func:`forget_node` on it."""
    below = node.__dict__.get(_NODES)
    if below is None:
        # (kept without the node itself: a list on a node holding that node would be a reference cycle,
        # and a tree in a cycle is freed only by the cyclic collector, long after its last use)
        below = node.__dict__[_NODES] = _breadth_first(node)[1:]
    return [node, *below]


def _breadth_first(node: ast.AST) -> list[ast.AST]:
    """``list(ast.walk(node))``, in the same order, at about half the cost (no generator per node)."""
    out = [node]
    i = 0
    while i < len(out):
        n = out[i]
        i += 1
        for name in n._fields:
            value = getattr(n, name, None)
            if isinstance(value, ast.AST):
                out.append(value)
            elif isinstance(value, list):
                out.extend(v for v in value if isinstance(v, ast.AST))
    return out


def forget_node(node: ast.AST) -> None:
    """Drop what is kept on ``node`` alone (its node list, what ``memo_on`` kept): before its own children
    change, when the nodes under it keep theirs (a subtree that is cut off takes its lists with it; none
    holds a node above it)."""
    d = node.__dict__
    d.pop(_NODES, None)
    d.pop(_MEMO, None)


_MEMO = "_torchlint_memo"  # the attribute of a node that holds what memo_on computed of it


def memo_on(node: ast.AST, what: str, compute):
    """``compute(node)``, computed once per node and kept on it (dropped by :func:`forget_node`): what
    several passes ask of the same function in one lint (its local reads: the walk and edits.py)."""
    memo = node.__dict__.get(_MEMO)
    if memo is None:
        memo = node.__dict__[_MEMO] = {}
    if what not in memo:
        memo[what] = compute(node)
    return memo[what]


def parent_map(scope: ast.AST) -> dict[int, ast.AST]:
    """Each node's parent under ``scope`` (by id), from its :func:`subtree`."""
    out: dict[int, ast.AST] = {}
    for n in subtree(scope):
        for name in n._fields:
            value = getattr(n, name, None)
            if isinstance(value, ast.AST):
                out[id(value)] = n
            elif isinstance(value, list):
                for child in value:
                    if isinstance(child, ast.AST):
                        out[id(child)] = n
    return out


class ImportMap:
    """What each module-level name of one file refers to, as a fully-qualified dotted name.

    ``module`` is the file's own dotted module name (``pkg.train``); local classes and functions
    resolve to ``pkg.train.Net``. Imports anywhere in the file are honoured (a function-level
    ``from utils import set_seed`` is common in scripts); the last binding of a name wins, except where
    imports bind one name to different things (``scoped``): there a name at a position resolves through
    the last import before it whose block holds it (FixMatch's `if arch == "wideresnet": import
    models.wideresnet as models` and `elif ...: import models.resnext as models`, each used in its arm).
    """

    __slots__ = ("module", "is_package", "bindings", "local_defs", "stars", "scoped")

    def __init__(self, module: str, is_package: bool = False) -> None:
        self.module = module
        self.is_package = is_package
        self.bindings: dict[str, str] = {}
        self.local_defs: set[str] = set()
        self.stars: list[str] = []  # modules imported with `from m import *`, in order
        # name -> (line of an import, last line of the block it is in, what it binds the name to), by line:
        # only names imports bind to more than one thing (and no def of the module binds)
        self.scoped: dict[str, tuple[tuple[int, int, str], ...]] = {}

    @classmethod
    def from_tree(cls, tree: ast.Module, module: str, is_package: bool = False) -> ImportMap:
        """The map of a module's tree (made once per tree, module name and kind: the facts and the module's
        context both ask; each caller gets its own copy to change)."""
        made = memo_on(tree, f"imports:{module}:{is_package}", lambda t: cls._made(t, module, is_package))
        im = cls(module, is_package)
        im.bindings, im.local_defs, im.stars = dict(made.bindings), set(made.local_defs), list(made.stars)
        im.scoped = made.scoped  # (never changed in place)
        return im

    @classmethod
    def _made(cls, tree: ast.Module, module: str, is_package: bool) -> ImportMap:
        im = cls(module, is_package)
        for node in subtree(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                im.add_import(node)
        for node in tree.body:
            im._add_toplevel(node)
        im.scoped = im._scoped_imports(tree)
        return im

    def _scoped_imports(self, tree: ast.Module) -> dict[str, tuple[tuple[int, int, str], ...]]:
        """The names imports bind to different things, each import with the lines it binds the name over
        for sure: from it to the end of its block (past the block, another path may have bound it)."""
        found: dict[str, list[tuple[int, int, str]]] = {}
        blocks: list[list[ast.stmt]] = [tree.body]
        while blocks:
            body = blocks.pop()
            if not body:
                continue
            end = body[-1].end_lineno or body[-1].lineno
            for stmt in body:
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    one = ImportMap(self.module, self.is_package)
                    one.add_import(stmt)
                    for name, target in one.bindings.items():
                        found.setdefault(name, []).append((stmt.lineno, end, target))
                    continue
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    value = getattr(stmt, field, None)
                    if not isinstance(value, list):
                        continue
                    for item in value:
                        if isinstance(item, (ast.ExceptHandler, ast.match_case)):
                            if item.body:
                                blocks.append(item.body)
                    if value and isinstance(value[0], ast.stmt):
                        blocks.append(value)
        return {
            name: tuple(sorted(entries))
            for name, entries in found.items()
            if len({t for *_, t in entries}) > 1 and name not in self.local_defs
        }

    def _add_toplevel(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            self.bindings[node.name] = f"{self.module}.{node.name}" if self.module else node.name
            self.local_defs.add(node.name)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            # `Linear = nn.Linear`, `Model = ResNet`: an alias of something we can name
            if isinstance(node.value, (ast.Name, ast.Attribute)):
                target = self.resolve(node.value)
                if target is not None and node.targets[0].id != target:
                    self.bindings[node.targets[0].id] = target
        elif isinstance(node, (ast.If, ast.Try)):
            # `try: import x except ImportError: ...` and `if TYPE_CHECKING:` blocks at module level
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    self._add_toplevel(child)
            for handler in getattr(node, "handlers", ()):
                for child in handler.body:
                    self._add_toplevel(child)

    def add_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.bindings[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    self.bindings[top] = top
            return
        base = self.absolute_from(node.module, node.level)
        if base is None:
            return
        for alias in node.names:
            if alias.name == "*":
                # the names it binds are known only from that module: the project resolves them (see
                # ModuleCtx.resolve); here the module is remembered
                if base and base not in self.stars:
                    self.stars.append(base)
                continue
            self.bindings[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name

    def absolute_from(self, module: str | None, level: int) -> str | None:
        if level == 0:
            return module or ""
        parts = self.module.split(".") if self.module else []
        if not self.is_package:
            parts = parts[:-1]
        if level - 1 > len(parts):
            return None
        if level > 1:
            parts = parts[: len(parts) - (level - 1)]
        if module:
            parts.append(module)
        return ".".join(parts)

    def resolve(self, expr: ast.AST | str) -> str | None:
        """The qualified name of a dotted expression, or None if its head is not an import/def."""
        name = dotted(expr) if not isinstance(expr, str) else expr
        if name is None:
            return None
        head, _, rest = name.partition(".")
        target = self.bindings.get(head)
        if target is None:
            return None
        if head in self.scoped and not isinstance(expr, str):
            line = getattr(expr, "lineno", None)
            if line is not None:
                for start, end, bound in self.scoped[head]:
                    if start < line <= end:
                        target = bound  # (by line: the last import before it that holds it wins)
        return canonical(f"{target}.{rest}" if rest else target)


def is_builder(qualname: str) -> bool:
    """A model factory: ``torchvision.models.resnet18``, ``timm.create_model``."""
    if qualname in TIMM_CREATE:
        return True
    module, _, last = qualname.rpartition(".")
    if module in TORCHVISION_MODEL_MODULES:
        return last[:1].islower() and last not in ("get_weight", "get_model_weights", "list_models", "utils")
    return False


_NOT_MODEL_ROOTS = frozenset(
    {
        "numpy",
        "np",
        "pandas",
        "PIL",
        "tqdm",
        "sklearn",
        "matplotlib",
        "scipy",
        "yaml",
        "omegaconf",
        "hydra",
        "wandb",
        "tensorboard",
        "torch",
        "torchvision",
        "datasets",
        "tokenizers",
        "transformers",
        "accelerate",
        "lightning",
        "lightning_fabric",
        "pytorch_lightning",
        "timm",
        "click",
        "fire",
        "absl",
        "typer",
        "rich",
        "requests",
        "cv2",
        "h5py",
        "mlflow",
        "torchmetrics",
        "torchaudio",
        "torchtext",
        "einops",
    }
)


def maybe_model_class(q: str) -> bool:
    """Could ``q`` be a model class of a library we do not read (capitalised, dotted, not of the standard
    library nor of a library that holds no models, not named like a config, a dataset or a tokenizer)?"""
    root = q.split(".", 1)[0]
    last = q.rsplit(".", 1)[-1]
    if root in sys.stdlib_module_names or root in _NOT_MODEL_ROOTS or not last[:1].isupper() or "." not in q:
        return False
    return not last.endswith(
        (
            "Config",
            "Tokenizer",
            "Dataset",
            "DataLoader",
            "Loader",
            "Error",
            "Exception",
            "Args",
            "Arguments",
            "Parser",
            "Logger",
            "Writer",
            "Processor",
            "Transform",
            "Meter",  # torchnet's ConfusionMeter, AverageValueMeter: counters, no parameters
            "Metric",
            "Timer",
            "Visualizer",
            "Sampler",
        )
    )
