"""The sample media really are what their names say (the demo and the fault tests rely on it)."""

from pathlib import Path

import av


def _probe(path: Path) -> tuple[float, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return container.duration / 1_000_000, stream.width, stream.height


def test_good_videos_meet_the_documented_requirements(samples: Path) -> None:
    for name in ("ocean-waves.mp4", "city-traffic.mov", "forest-walk.mp4"):
        duration, width, height = _probe(samples / "videos" / name)
        assert duration >= 4 and width >= 360 and height >= 360, name


def test_bad_videos_break_exactly_one_rule(samples: Path) -> None:
    assert _probe(samples / "bad" / "tiny-320x240.mp4")[1:] == (320, 240)
    assert _probe(samples / "bad" / "short-2s.mp4")[0] < 4
    assert (samples / "bad" / "empty.mp4").stat().st_size == 0
    assert (samples / "bad" / "not-a-video.mp4").read_bytes().startswith(b"This is a text file")
