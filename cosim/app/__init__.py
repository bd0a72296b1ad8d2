"""Stage 4, applications: the ``vcma`` command line, the demo, the sensitivity study, reports and plots."""
