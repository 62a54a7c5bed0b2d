import io

import numpy as np
import pytest
from PIL import Image

from sciencebeam_gym.color_map import UNKNOWN_COLOR, UNKNOWN_KEY
from sciencebeam_gym.preprocess import images
from tests.preprocess.conftest import decompression_bomb_png, draw_label, draw_page, png_bytes

SIZE = (64, 48)  # width, height: not square, so a swapped order shows


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_page_becomes_rgb_png_of_the_requested_size():
    out = decode(images.preprocess_page(png_bytes(draw_page()), SIZE))
    assert out.format == "PNG"
    assert out.mode == "RGB"
    assert out.size == SIZE


def test_page_resize_is_bicubic_and_reducing_gap_stays_equivalent():
    page = draw_page(480, 640, seed=3)
    exact = np.asarray(Image.fromarray(page).resize(SIZE, Image.Resampling.BICUBIC), dtype=int)
    full = np.asarray(decode(images.preprocess_page(png_bytes(page), SIZE, reducing_gap=None)))
    fast = np.asarray(decode(images.preprocess_page(png_bytes(page), SIZE)), dtype=int)
    assert np.array_equal(full, exact)
    assert np.abs(fast - exact).mean() < 1.0
    assert np.abs(fast - exact).max() <= 32


def test_annotation_is_resized_nearest_then_colour_mapped(color_map):
    label = draw_label(120, 160, keys=(1, 12, 24))
    out = np.asarray(decode(images.preprocess_annotation(png_bytes(label), SIZE, color_map)))
    assert out.shape == (SIZE[1], SIZE[0], 3)
    colours = {tuple(int(v) for v in c) for c in out.reshape(-1, 3)}
    allowed = {(0, 0, 0)} | {color_map.classes[color_map.keys.index(k)].color for k in (1, 12, 24)}
    assert colours == allowed
    # Nearest neighbour: each output pixel is the colour of the label pixel it samples.
    expected = color_map.label_image_to_rgb(
        np.asarray(Image.fromarray(label).resize(SIZE, Image.Resampling.NEAREST))
    )
    assert np.array_equal(out, expected)


def test_annotation_colours_outside_the_map_pass_unchanged(color_map):
    label = np.zeros((20, 20, 3), dtype=np.uint8)
    label[:10] = (10, 200, 30)  # already a colour
    label[10:] = (200, 200, 200)  # grey, but no class has key 200
    out = np.asarray(decode(images.preprocess_annotation(png_bytes(label), (20, 20), color_map)))
    assert (out[:10] == (10, 200, 30)).all()
    assert (out[10:] == (200, 200, 200)).all()


def test_unknown_grey_becomes_white_and_is_not_unmapped(color_map):
    label = np.zeros((20, 20), dtype=np.uint8)
    label[:5] = UNKNOWN_KEY
    label[5:10] = color_map.keys[0]
    mapped = images.map_annotation(png_bytes(label), (20, 20), color_map)
    out = np.asarray(decode(mapped.png))
    assert (out[:5] == UNKNOWN_COLOR).all()
    assert (out[5:10] == color_map.colors[0]).all()
    assert mapped.unmapped_pixels == 0
    label[10:] = 200  # grey without a class is still unmapped
    assert images.map_annotation(png_bytes(label), (20, 20), color_map).unmapped_pixels == 200


def test_rgba_page_is_composited_over_white():
    page = np.zeros((40, 40, 4), dtype=np.uint8)
    page[:, :20] = (0, 0, 255, 255)  # opaque blue
    page[:, 20:] = (0, 0, 0, 0)  # transparent
    out = np.asarray(decode(images.preprocess_page(png_bytes(page), (40, 40))))
    assert (out[:, :20] == (0, 0, 255)).all()
    assert (out[:, 20:] == (255, 255, 255)).all()


def test_greyscale_page_becomes_rgb():
    page = np.full((40, 40), 255, dtype=np.uint8)
    page[10:20] = 0
    out = np.asarray(decode(images.preprocess_page(png_bytes(page), (40, 40))))
    assert out.shape == (40, 40, 3)
    assert (out[10:20] == 0).all() and (out[:10] == 255).all()


def test_16_bit_greyscale_page_is_scaled_to_8_bits():
    page = np.full((40, 40), 65535, dtype=np.uint16)
    page[10:20] = 0
    data = png_bytes(Image.fromarray(page, mode="I;16"))
    out = np.asarray(decode(images.preprocess_page(data, (40, 40))))
    assert (out[10:20] == 0).all() and (out[:10] == 255).all()


def test_palette_and_greyscale_annotations_keep_their_class_keys(color_map):
    label = draw_label(40, 40, keys=(2, 9))
    grey_out = images.preprocess_annotation(png_bytes(label), (40, 40), color_map)
    palette = Image.fromarray(label).convert("P")
    palette_out = images.preprocess_annotation(png_bytes(palette), (40, 40), color_map)
    rgb_out = images.preprocess_annotation(png_bytes(np.dstack([label] * 3)), (40, 40), color_map)
    expected = color_map.label_image_to_rgb(label)
    for out in (grey_out, palette_out, rgb_out):
        assert np.array_equal(np.asarray(decode(out)), expected)


def test_rgba_annotation_drops_alpha(color_map):
    label = np.dstack([draw_label(40, 40, keys=(5,))] * 3 + [np.full((40, 40), 255, np.uint8)])
    out = np.asarray(decode(images.preprocess_annotation(png_bytes(label), (40, 40), color_map)))
    assert np.array_equal(out, color_map.label_image_to_rgb(label[..., 0]))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", images.EMPTY_FILE),
        (b"this is a text file, not a picture\n", images.NOT_AN_IMAGE),
        (png_bytes(draw_page())[:300], images.TRUNCATED_IMAGE),
    ],
    ids=["zero-byte", "text", "truncated"],
)
def test_bad_files_raise_image_error_with_reason_and_path(data, reason, color_map):
    for preprocess in (
        lambda: images.preprocess_page(data, SIZE, path="dir/x.png"),
        lambda: images.preprocess_annotation(data, SIZE, color_map, path="dir/x.png"),
    ):
        with pytest.raises(images.ImageError) as error:
            preprocess()
        assert error.value.reason == reason
        assert error.value.path == "dir/x.png"
        assert "dir/x.png" in str(error.value)


def test_image_beyond_the_decompression_bomb_limit_is_refused():
    bomb = decompression_bomb_png()
    assert len(bomb) < 1_000_000
    with pytest.raises(images.ImageError) as error:
        images.preprocess_page(bomb, SIZE, path="bomb.png")
    assert error.value.reason == images.IMAGE_TOO_LARGE


def test_own_pixel_limit_is_applied():
    data = png_bytes(draw_page(100, 100))
    with pytest.raises(images.ImageError) as error:
        images.preprocess_page(data, SIZE, max_pixels=9_999)
    assert error.value.reason == images.IMAGE_TOO_LARGE
    assert images.preprocess_page(data, SIZE, max_pixels=10_000)


def test_png_compress_level_changes_size_not_pixels():
    page = draw_page(200, 200, seed=1)
    fast = images.preprocess_page(png_bytes(page), (200, 200), compress_level=1)
    small = images.preprocess_page(png_bytes(page), (200, 200), compress_level=9)
    assert len(small) <= len(fast)
    assert np.array_equal(np.asarray(decode(fast)), np.asarray(decode(small)))


def test_16_bit_label_values_beyond_8_bits_are_refused(color_map):
    label = np.zeros((20, 20), dtype=np.uint16)
    label[5:10] = 300
    data = png_bytes(Image.fromarray(label, mode="I;16"))
    with pytest.raises(images.ImageError) as error:
        images.preprocess_annotation(data, (20, 20), color_map, path="l.png")
    assert error.value.reason == images.UNSUPPORTED_IMAGE
    label[5:10] = 7
    out = images.preprocess_annotation(
        png_bytes(Image.fromarray(label, mode="I;16")), (20, 20), color_map
    )
    assert np.array_equal(
        np.asarray(decode(out)), color_map.label_image_to_rgb(label.astype(np.uint8))
    )


def test_page_and_label_of_different_sizes_are_refused():
    page, label = png_bytes(draw_page(120, 160)), png_bytes(draw_label(240, 320))
    with pytest.raises(images.ImageError) as raised:
        images.check_same_size(page, label, "d/x-page1.png", "d/x-page1.annot.png")
    assert raised.value.reason == images.SIZE_MISMATCH
    assert "120x160" in str(raised.value) and "d/x-page1.annot.png is 240x320" in str(raised.value)
    images.check_same_size(page, png_bytes(draw_label(120, 160)), "p", "a")  # same size: fine
