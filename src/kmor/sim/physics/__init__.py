"""Physical model of the simulated potassium lab: the 39K paraffin-coated cell, the optics, the laser
and the heated reference cell.

Pure computation (no I/O, no instrument protocols, no wall clock); random numbers come only from the
`numpy.random.Generator` handed to `LabPhysics`. The instrument emulators read their signals from
`LabPhysics` through `ApparatusState`.
"""

from kmor.sim.physics.model import ApparatusState, LabPhysics
from kmor.sim.physics.params import PhysicsParams

__all__ = ["ApparatusState", "LabPhysics", "PhysicsParams"]
