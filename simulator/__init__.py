"""The journey simulator: a cohort through a journey version under a virtual clock, pure.

`simulator.models` is the public interface (cohorts, options, result); `simulator.engine.simulate`
runs it. The simulator drives the same `domain.engine.Engine` the live workflow drives, the same
way (`workflows/journey.py`), and applies the same messaging gates (`domain.messaging`,
`domain.channels`), so its counts agree with what real enrollments do. No I/O: no Temporal, no
MongoDB, no channel calls.
"""
