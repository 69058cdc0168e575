// Stands in for an analytics tag: it runs only with analytics allowed.
window.analyticsLoaded = true;
document.getElementById('analytics-status').textContent = 'loaded';
