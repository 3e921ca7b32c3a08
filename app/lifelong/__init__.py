"""The lifelong personal page and the enterprise page, with activation and enterprise members."""
