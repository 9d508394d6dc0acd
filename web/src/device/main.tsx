import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DeviceApp } from './DeviceApp.tsx';
import './device.css';

const root = document.getElementById('root');
if (!root) throw new Error('device.html has no #root');
createRoot(root).render(
  <StrictMode>
    <DeviceApp />
  </StrictMode>,
);
