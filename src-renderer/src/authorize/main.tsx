import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AuthorizePage } from './AuthorizePage.tsx';
import '../styles.css';
import '../identity.css';

// The hosted passkey page (/desktop/authorize on the API's origin), opened in the user's own browser.
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <AuthorizePage />
    </StrictMode>,
  );
}
