"""What shipped: release ranges by git's ancestry, and the commit graph that walks them."""
