// The toolbar button opens the sign-in page in a tab: chrome.identity.launchWebAuthFlow's
// window takes the focus, which would close an action popup and lose its promise.
chrome.action.onClicked.addListener(() => chrome.tabs.create({url: "signin.html"}));
