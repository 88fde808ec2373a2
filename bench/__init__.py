"""EcoLink benchmarks: one harness, one module per suite (``python -m bench SUITE …``).

Layout (the model is synapse's ``synmark/``):

* ``__main__``   the entry point: one subcommand per suite in ``SUITES``;
* ``harness``    what every suite shares: argument types and options, the report (markdown
                 tables on stdout, the same report as JSON with ``--json`` or beside ``--out``);
* ``nodes``      server processes: a fresh node (data folder, or database + Redis prefix from
                 tests/support/services.py), pinning to a core, readiness, stop, machine load;
* ``wsload``     the raw-socket WebSocket client and the CPU/RSS probes the load generators use;
* ``loadgen``    the load generator's own process (``python -m bench.loadgen``), pinned to the
                 other core; its commands come from the suites' ``*_load`` modules;
* ``baseline_server``  the bare ``websockets`` broadcast server, the fan-out ceiling;
* ``suites/``    one module per suite (``fanout``, ``presence``, ``abuse``, ``client``); a suite
                 that drives the raw-socket load generator keeps that half in ``<suite>_load``.

A new suite is a module in ``suites/`` with ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> Report``, listed in ``SUITES`` (tests/unit/test_bench.py checks the list).
Not shipped: pyproject's package list includes ``chat*`` only.
"""
