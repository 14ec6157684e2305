"""Screening returns the API's own violation codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from twelvelabs_client.requirements import check_audio, check_image, check_video, duration_limits, sniff_format


def codes(violations) -> list[str]:
    return [v.code for v in violations]


def test_good_sample_passes() -> None:
    assert check_video(duration=8, width=640, height=360, size=500_000, models=["marengo2.7", "pegasus1.2"]) == []
    assert check_video(width=1080, height=1920) == []  # 9:16
    assert check_video(width=854, height=480) == []  # 16:9 within tolerance
    assert check_video(width=1440, height=1080) == []  # 4:3


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"width": 320, "height": 240}, ["video_resolution_too_low"]),
        ({"width": 7680, "height": 4320}, ["video_resolution_too_high"]),
        ({"width": 1000, "height": 400}, ["video_resolution_invalid_aspect_ratio"]),
        ({"width": 360, "height": 360}, []),
        ({"duration": 2.0}, ["video_duration_too_short"]),
        ({"duration": 7201.0}, ["video_duration_too_long"]),
        ({"duration": 3601.0, "models": ["marengo2.7"]}, []),
        ({"duration": 3601.0, "models": ["marengo2.7", "pegasus1.2"]}, ["video_duration_too_long"]),
        ({"size": 0}, ["video_file_broken"]),
        ({"size": 2 * 1024**3 + 1}, ["video_filesize_too_large"]),
        ({"size": 2 * 1024**3}, []),
    ],
)
def test_video_rules(kwargs: dict, expected: list[str]) -> None:
    assert codes(check_video(**kwargs)) == expected


def test_duration_limits_most_restrictive() -> None:
    assert duration_limits(["marengo2.7"]) == (4.0, 7200.0)
    assert duration_limits(["pegasus1.2", "marengo2.7"]) == (4.0, 3600.0)
    assert duration_limits(["unknown9"]) == (4.0, 7200.0)


def test_image_rules() -> None:
    assert check_image(width=64, height=64, size=1000, format="image/jpeg") == []
    assert codes(check_image(width=100, height=100, purpose="embed")) == ["image_resolution_too_low"]
    assert codes(check_image(format="gif")) == ["unsupported_file_type"]
    assert codes(check_image(size=5 * 1024**2 + 1, format="png")) == ["image_filesize_too_large"]
    with pytest.raises(ValueError):
        check_image(purpose="thumbnail")


def test_audio_rules() -> None:
    for fmt in ("wav", "audio/mpeg", ".flac", "m4a"):
        assert check_audio(size=1000, format=fmt) == [], fmt
    assert codes(check_audio(format="ogg")) == ["unsupported_file_type"]
    assert codes(check_audio(size=11 * 1024**2)) == ["audio_filesize_too_large"]


def test_sniff_samples(samples: Path) -> None:
    assert sniff_format((samples / "media" / "still.jpg").read_bytes()[:16]) == "jpeg"
    assert sniff_format((samples / "media" / "still.png").read_bytes()[:16]) == "png"
    assert sniff_format((samples / "media" / "tone.wav").read_bytes()[:16]) == "wav"
    assert sniff_format((samples / "media" / "tone.mp3").read_bytes()[:16]) == "mp3"
    assert sniff_format((samples / "videos" / "ocean-waves.mp4").read_bytes()[:16]) in ("mp4", "mov")
    assert sniff_format((samples / "bad" / "not-a-video.mp4").read_bytes()[:16]) is None
