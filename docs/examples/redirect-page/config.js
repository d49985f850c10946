// The one setting of the redirect page: your broker's callback,
// {AURINKO_PUBLIC_URL}/v1/auth/callback. It is fixed here, never read from the query, so the
// page cannot be made to forward a code anywhere else.
window.AURINKO_CALLBACK = "https://auth.example.com/v1/auth/callback";
