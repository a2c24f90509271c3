"""The protocol page shows the frames exactly as ``hotline.protocol`` defines them."""

from pathlib import Path

from hotline.protocol import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "hotline-protocol.md"


def test_frame_reference_in_the_docs_matches_the_code():
    text = DOC.read_text()
    generated = text.split("<!-- frames:begin -->\n", 1)[1].split("<!-- frames:end -->", 1)[0]
    assert generated == render_markdown(), (
        "docs/hotline-protocol.md is out of date: replace the block between the frames "
        "markers with hotline.protocol.render_markdown()"
    )
