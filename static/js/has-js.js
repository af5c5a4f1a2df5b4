// Loaded in <head> before the styles apply: marks the page as scripted so the CSS can hide
// what the scripts will open (the collapsed menu), without a flash of the open one.
document.documentElement.classList.add("js");
