"""`python -m video_pipeline.imports`: see video_pipeline.imports.cli."""

from __future__ import annotations

import sys

from video_pipeline.imports.cli import main

sys.exit(main())
