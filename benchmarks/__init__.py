"""The benchmarks, a package run from the repository's root: ``python -m benchmarks.run --smoke``
(and ``benchmarks.real_servers``, ``.server_instructions``, ``.storm``, ``.workers``)."""
