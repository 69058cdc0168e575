// Stands in for an advertising pixel: it runs only with advertising allowed.
window.advertisingLoaded = true;
document.getElementById('advertising-status').textContent = 'loaded';
