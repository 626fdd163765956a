"""Motion models: how the canonical Gaussians move over time, one module each.

A motion model is a ``MotionModel`` entry in ``registry.py``: its settings (the
``--motion NAME`` options, saved in config.yml's ``train.motion``), the structure a run
resolves from them (saved in ``model.motion``, enough to rebuild the model), its learning
rates, which of its tensors are positions, which stay float32 on export, the parameter shapes
a checkpoint must hold, and the deformation it builds. These modules import no torch (the
command line reads the settings without the ``[train]`` extra); each builds its deformation
from its own torch module when asked.
"""
