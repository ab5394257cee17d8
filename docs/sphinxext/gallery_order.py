"""Order of the examples in the gallery: from first steps to loss internals.

sphinx-gallery takes the sort key as a fully qualified class name (a string
keeps the Sphinx configuration picklable); ``conf.py`` puts this folder on
``sys.path``.
"""

EXAMPLE_ORDER = (
    "plot_quick_start.py",
    "plot_pipeline_mixed_types.py",
    "plot_grid_search.py",
    "plot_focal_vs_smote.py",
    "plot_threshold_and_calibration.py",
    "plot_decisions_under_imbalance.py",
    "plot_multiclass_rare_class.py",
    "plot_custom_callbacks.py",
    "plot_focal_loss_curves.py",
    "plot_ghm_gradient_density.py",
    "plot_loss_weights_quadrants.py",
    "plot_seed_article_mistakes.py",
)


class ExampleOrder:
    """Sort key: the position in ``EXAMPLE_ORDER``, unknown files last by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in EXAMPLE_ORDER:
            return (EXAMPLE_ORDER.index(filename), filename)
        return (len(EXAMPLE_ORDER), filename)

    def __repr__(self):
        return f"{type(self).__name__}()"
