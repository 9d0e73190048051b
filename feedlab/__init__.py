"""feedlab: library code behind the dbt python models of the feedlab warehouse."""
