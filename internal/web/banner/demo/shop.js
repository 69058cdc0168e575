// The footer's "Cookie settings" link reopens the banner.
document.getElementById('cookie-settings').addEventListener('click', (e) => {
  e.preventDefault();
  window.Custos.consent.show();
});
