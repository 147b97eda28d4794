"""Super-resolution measured: a generator against bicubic upscaling on held-out
photos (PSNR and SSIM with the conventions of common/image_quality.py), and the
side-by-side figure SRGAN's runs save."""
import os

import numpy as np
from keras import ops

from common.image_quality import compare_upscalers, save_comparison_figure
from common.metrics import load_generator
from common.photos import bicubic_upscale


def compare_with_bicubic(generator, dataset):
    """Upscale `dataset`'s held-out LR photos with `generator` and with bicubic
    interpolation; returns `common.image_quality.compare_upscalers`'s results."""
    def srgan(lr):
        return ops.convert_to_numpy(generator(lr[None], training=False))[0]

    def bicubic(lr):
        return bicubic_upscale(lr, dataset.scale)

    return compare_upscalers(dataset.test_pairs(), {"bicubic": bicubic, "srgan": srgan})


def flat_scores(results):
    """{"psnr_bicubic", "ssim_bicubic", "psnr_srgan", "ssim_srgan"}: the history's columns."""
    return {f"{metric}_{name}": results[name][metric]
            for name in ("bicubic", "srgan") for metric in ("psnr", "ssim")}


def format_scores(scores):
    return (f"Held-out PSNR / SSIM (Y): bicubic {scores['psnr_bicubic']:.2f} dB / "
            f"{scores['ssim_bicubic']:.4f}, SRGAN {scores['psnr_srgan']:.2f} dB / "
            f"{scores['ssim_srgan']:.4f}")


def save_comparison(results, pairs, path, caption, window=128, rows=3):
    """The sample figure: for up to `rows` held-out photos, a centre window of
    `window` HR pixels of the LR input, bicubic, SRGAN and the original, with
    the PSNR of each whole photo."""
    images, labels = [], []
    for i, (hr, lr) in enumerate(pairs[:rows]):
        scale = hr.shape[0] // lr.shape[0]
        side = min(window, hr.shape[0], hr.shape[1]) // scale * scale
        top = (hr.shape[0] - side) // 2 // scale * scale
        left = (hr.shape[1] - side) // 2 // scale * scale
        hr_window = np.s_[top:top + side, left:left + side]
        lr_window = np.s_[top // scale:(top + side) // scale, left // scale:(left + side) // scale]
        images.append([lr[lr_window], results["bicubic"]["outputs"][i][hr_window],
                       results["srgan"]["outputs"][i][hr_window], hr[hr_window]])
        labels.append(["", f"{results['bicubic']['images'][i]['psnr']:.2f} dB",
                       f"{results['srgan']['images'][i]['psnr']:.2f} dB", "PSNR (Y)"])
    title = (f"{caption}: held-out mean PSNR bicubic {results['bicubic']['psnr']:.2f} dB, "
             f"SRGAN {results['srgan']['psnr']:.2f} dB")
    return save_comparison_figure(images, ["low resolution", "bicubic", "SRGAN", "original"],
                                  path, cell_labels=labels, title=title)


def evaluate_saved_generator(path, dataset, out_dir):
    """Score a saved generator against bicubic upscaling on `dataset`'s held-out
    photos, print the table and save the figure to `<out_dir>/images/srgan_evaluation.png`."""
    generator = load_generator(path)
    results = compare_with_bicubic(generator, dataset)
    scores = flat_scores(results)
    figure = save_comparison(results, dataset.test_pairs(),
                             os.path.join(out_dir, "images", "srgan_evaluation.png"),
                             os.path.basename(path))
    print(f"{path} on the {len(dataset.test_pairs())} held-out photos of {dataset.description} "
          "(PSNR in dB / SSIM; Y channel, 4-pixel border cropped, 8-bit values):")
    for name in ("bicubic", "srgan"):
        print(f"  {'SRGAN' if name == 'srgan' else name:8s} {scores['psnr_' + name]:6.2f} / "
              f"{scores['ssim_' + name]:.4f}")
    print(f"Figure: {figure}")
    return scores
