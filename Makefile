# Shortcuts for the two README commands (scripts/demo.sh and scripts/test.sh).
.PHONY: demo test
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
