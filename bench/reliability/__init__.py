"""The reliability run's case families (bench/reliability.py runs them): one module per family, sharing
`common.Tally` for what each case found."""
