/* export.h: the files `clunet predict` writes for other programs: the
 * nuclei table (CSV, one row per nucleus) and the per-image summary, an
 * ImageJ/Fiji ROI set (zip of .roi files), a QuPath GeoJSON, and TIFFs of
 * 32-bit labels and float32 probabilities. Every writer is atomic (a
 * temporary name in the same folder, renamed into place; nothing is left
 * behind on failure); write errors are CU_EIO naming the file, out of host
 * memory CU_EDEVICE.
 *
 * um_per_px: the pixel size in micrometres, 0 when unknown; when known, the
 * tables and the GeoJSON measurements gain micrometre columns. The column
 * names and their meaning are listed by cu_nuclei_csv_write's comment and
 * README.md. */
#ifndef CLUNET_EXPORT_H
#define CLUNET_EXPORT_H

#include <stdint.h>

#include "clunet/contour.h"
#include "clunet/measure.h"
#include "clunet/status.h"

/* <id>_nuclei.csv: label, area, centroid_x, centroid_y, bbox_x0, bbox_y0,
 * bbox_x1, bbox_y1 (x1, y1 one past the last pixel), equivalent_diameter,
 * perimeter, eccentricity, solidity, convex_area, then per channel k
 * mean_intensity, min_intensity, max_intensity (suffix _chK, 1-based, when
 * the table has more than one channel), mean_probability; with a pixel
 * size: area_um2, centroid_x_um, centroid_y_um, equivalent_diameter_um,
 * perimeter_um. Pixels count from 0 (x = column, y = row). */
enum cu_status cu_nuclei_csv_write(const char *path, const struct cu_measure_table *t, double um_per_px,
                                   struct cu_err *err);

/* nuclei_summary.csv: one row per image, added as images are measured. */
struct cu_summary;
enum cu_status cu_summary_new(struct cu_summary **out, struct cu_err *err);
enum cu_status cu_summary_add(struct cu_summary *s, const char *id, int h, int w, const struct cu_measure_table *t,
                              double um_per_px, struct cu_err *err);
/* image, width, height, count, area_fraction (nucleus pixels / image
 * pixels), mean_area, median_area, min_area, max_area,
 * mean_equivalent_diameter, mean_perimeter, mean_eccentricity,
 * mean_solidity, mean_intensity (channel 1, mean over nuclei of their
 * mean), mean_probability, pixel_size_um, mean_area_um2,
 * mean_equivalent_diameter_um (the last three empty without a pixel size;
 * means are empty for an image without nuclei). */
enum cu_status cu_summary_write(const struct cu_summary *s, const char *path, struct cu_err *err);
void cu_summary_free(struct cu_summary *s);

/* <id>_rois.zip: one ImageJ polygon ROI (RoiEncoder format, version 228)
 * per outline, named by its label, entries "<label>.roi" in label order.
 * Coordinates beyond 32,767 also get ImageJ's sub-pixel float copy. */
enum cu_status cu_roi_zip_write(const char *path, const struct cu_outlines *o, struct cu_err *err);

/* <id>.geojson: a FeatureCollection with one Feature per outline: a
 * Polygon (one closed ring of pixel-corner coordinates) and properties
 * {"objectType": "detection", "name": "<label>", "measurements": {...}}
 * as QuPath reads them; measurements (t may be NULL: none) carry the CSV's
 * columns. t, when given, must hold the same labels as o. */
enum cu_status cu_geojson_write(const char *path, const struct cu_outlines *o, const struct cu_measure_table *t,
                                double um_per_px, struct cu_err *err);

/* Single-page TIFFs through libtiff, deflate-compressed: labels
 * as 32-bit unsigned integers, probabilities as 32-bit IEEE floats; px is
 * row major. */
enum cu_status cu_tiff_write_u32(const char *path, const uint32_t *px, int h, int w, struct cu_err *err);
enum cu_status cu_tiff_write_f32(const char *path, const float *px, int h, int w, struct cu_err *err);
/* pages float planes of h x w, one after the other in px, as a multi-page
 * float32 TIFF (one page per plane; tifffile reads (pages, h, w)). */
enum cu_status cu_tiff_write_f32_pages(const char *path, const float *px, int pages, int h, int w, struct cu_err *err);

#endif
