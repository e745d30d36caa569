"""Reports for operators: flows between regions and holdings."""
